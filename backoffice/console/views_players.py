"""Player search and the player page: the context an operator reads before deciding on money."""

from django.http import Http404
from django.shortcuts import render

from backoffice.player_context import find_player, find_players, player_context
from tenants.access import operator_view


@operator_view()
def players(request):
    query = request.GET.get("q", "").strip()[:150]
    rows = find_players(request.operator, query)
    return render(request, "console/players.html", {"query": query, "players": rows})


@operator_view()
def player_detail(request, player_id):
    player = find_player(request.operator, player_id)
    if player is None:
        raise Http404
    return render(request, "console/player.html", {"player": player_context(player)})
