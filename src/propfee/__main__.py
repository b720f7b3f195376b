"""The `propfee` command: Django's management entry with propfee's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propfee.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[:]
    argv[0] = "propfee"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
