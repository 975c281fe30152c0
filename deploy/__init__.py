"""Production configuration: nginx, coturn, systemd units and example environments, as templates
that render.py fills in (README, "Production deployment")."""
