"""The OCCI 1.2 face: its categories, renderings, content negotiation, views and kind handlers."""
