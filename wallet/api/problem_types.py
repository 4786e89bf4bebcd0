"""Dereferenceable problem `type` URIs: what each error_code means."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .problems import PROBLEM_TYPES


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
        if code not in PROBLEM_TYPES:
            raise Http404
        status, title = PROBLEM_TYPES[code]
        return Response({"error_code": code, "status": status, "title": title})
