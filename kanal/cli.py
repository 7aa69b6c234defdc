"""The `kanal` command: Django's management commands under one name.

`kanal sandbox`, `kanal worker`, `kanal verify-audit`, `kanal rotate-keys`,
`kanal load-demo` … are management commands; dashes map to underscores.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kanal.settings.dev")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(["kanal", *argv[1:]])


if __name__ == "__main__":
    main()
