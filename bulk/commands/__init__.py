"""The commands beside the Typer app: set-up, new sheets, due work, schedules, and what they share."""
