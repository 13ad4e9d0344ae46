"""The API runtime: the Starlette app (`app.create_api`), one module of routes per resource, request
bodies, errors and the request log. It reaches Redis and PostgreSQL through `connectors`; the
console (`streamapp.console`) is served beside it."""
