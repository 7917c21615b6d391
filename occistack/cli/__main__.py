"""``python -m occistack.cli``, the same as the ``occistack`` command."""

from . import main

main(prog_name="occistack")
