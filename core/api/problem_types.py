"""Dereferenceable problem `type` URIs: what each error_code means."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .problems import known_problem_types


class ProblemTypeSerializer(serializers.Serializer):
    error_code = serializers.CharField()
    status = serializers.IntegerField()
    title = serializers.CharField()


class ProblemTypeView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, slug):
        code = slug.upper().replace("-", "_")
        types = known_problem_types()
        if code not in types:
            raise Http404
        status, title = types[code]
        return Response({"error_code": code, "status": status, "title": title})
