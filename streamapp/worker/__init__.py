"""The worker runtime: the Faust app factory (`app.create_app`), the shared dependencies of the
agents, every Kafka topic, and the worker's table views. Wiring only: stages live in `agents`,
their logic in the domain packages of `streamapp`."""
