"""``python validation/false_alarms.py``: the documented path of the command line of
:mod:`pd14_pynn.validation.false_alarms` (also ``python -m pd14_pynn.validation.false_alarms``)."""

import sys

from pd14_pynn.validation import false_alarms

if __name__ == "__main__":
    sys.exit(false_alarms.main())
