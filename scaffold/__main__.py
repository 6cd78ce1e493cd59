"""python -m scaffold"""

import sys

from .cli import main

sys.exit(main())
