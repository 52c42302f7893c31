import sys

from hexviz.cli import main

sys.exit(main())
