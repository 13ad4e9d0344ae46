"""Automations, pure: rules (`parse`, `rules`), safe payload templates (`render`), durations,
the cooldown and dry-run decisions (`decide`), the records they produce (`records`) and the
configuration they read (`config`). The automations agent and the provider connectors use them."""
