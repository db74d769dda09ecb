"""`python -m stream.transcribe SRC DST --work DIR [--engine E] [--model M] [--language L]`.

The worker process: see `stream.transcribe.worker`.
"""

import sys

from stream.transcribe.worker import main

sys.exit(main(sys.argv[1:]))
