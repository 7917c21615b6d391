"""``python -m occistack.cli``, the same as the ``occistack`` command."""

from occistack.cli import main

main(prog_name="occistack")
