import sys

from oximon.cli import main

sys.exit(main())
