"""Getting data in: every source turns raw input into frames of the schemas in ``model``."""
