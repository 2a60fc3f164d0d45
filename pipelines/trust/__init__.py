"""Trust: the Beta reputation model, its marts and the write-back to the platform."""
