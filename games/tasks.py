"""The game wallet's periodic work. Task names start with `games.` (they run on the games queue)."""

from celery import shared_task

from games.rounds import close_idle_rounds as close_rounds


@shared_task(name="games.close_idle_rounds")
def close_idle_rounds() -> int:
    """Close rounds idle past their tenant's game_round_idle_minutes (Celery beat, every minute)."""
    return close_rounds()
