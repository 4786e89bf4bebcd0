from django.urls import path

from .problem_types import ProblemTypeView

urlpatterns = [
    path("problems/<slug:slug>/", ProblemTypeView.as_view(), name="problem-type"),
]
