"""python -m scaffold"""

from .cli import entry

entry()
