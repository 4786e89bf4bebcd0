from .account import KycStatus, Player, PlayerSessionToken
from .kyc import KycCheck
from .protection import Exclusion, LimitKind, LimitPeriod, PlayerLimit, RegisterListing

__all__ = [
    "Exclusion",
    "KycCheck",
    "KycStatus",
    "LimitKind",
    "LimitPeriod",
    "Player",
    "PlayerLimit",
    "PlayerSessionToken",
    "RegisterListing",
]
