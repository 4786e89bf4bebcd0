"""The player page's API tokens: issued at sign-in, reused while the session lives, deleted at sign-out.

The page's script calls the player API with a token, like any casino front end. It gets
one bound to its browser session rather than the player's long-lived API token (which
scripts use and which outlives every sign-out): whoever reads the page's token later
(a shared computer, a cached page) holds nothing once the session ends.
"""

from core.api_keys import digest_of, new_key
from players.models import PlayerSessionToken

SESSION_TOKEN_PREFIX = "ps_"  # noqa: S105 - what a key starts with, not a secret
_IN_SESSION = "player_api_token"  # the raw key, kept server-side in the session for the next page load


def is_session_token(key: str) -> bool:
    return key.startswith(SESSION_TOKEN_PREFIX)


def issue_session_token(request) -> str:
    """A new token for the signed-in user, bound to this request's session; returns the key."""
    if request.session.session_key is None:
        request.session.save()  # the token refers to the session's row
    key = new_key(SESSION_TOKEN_PREFIX)
    PlayerSessionToken.objects.create(digest=digest_of(key), user=request.user, session_id=request.session.session_key)
    request.session[_IN_SESSION] = key
    return key


def session_token(request) -> str:
    """This session's token: the one issued at sign-in, or a new one if it is gone."""
    key = request.session.get(_IN_SESSION)
    if (
        key
        and PlayerSessionToken.objects.filter(
            digest=digest_of(key), user=request.user, session_id=request.session.session_key
        ).exists()
    ):
        return key
    return issue_session_token(request)


def revoke_session_tokens(request) -> int:
    """Delete the tokens of this request's session (at sign-out); how many there were."""
    request.session.pop(_IN_SESSION, None)
    if request.session.session_key is None:
        return 0
    deleted, _ = PlayerSessionToken.objects.filter(session_id=request.session.session_key).delete()
    return deleted
