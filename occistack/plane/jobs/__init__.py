"""Jobs: the queue the use cases write, the worker that runs them, and the step handlers."""
