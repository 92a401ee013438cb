# Tests are not part of the app: this import must not make it ask for payments.
from qun import payments  # noqa: F401
