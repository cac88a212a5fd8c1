import sys

from etl.memory import use_jemalloc

use_jemalloc()  # before anything is read (etl/memory.py says why)

from etl.cli import main  # noqa: E402

sys.exit(main())
