"""Live Q&A and the panel queue: rules in `domain`, persistence and notices in `service`."""
