"""yuqing: public-opinion monitoring for telecom operators."""

from yuqing import netguard as _netguard

__version__ = "0.1.0"

_netguard.install_if_asked()  # loopback only when the tests ask (YQ_LOOPBACK_ONLY=1), before anything resolves
