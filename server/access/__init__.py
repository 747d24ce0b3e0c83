"""Who may call what: roles, API tokens and the FastAPI dependencies that check them."""
