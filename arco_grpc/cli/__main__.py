"""``python -m arco_grpc.cli``: the ``arco`` command."""

import sys

from arco_grpc.cli import main

sys.exit(main())
