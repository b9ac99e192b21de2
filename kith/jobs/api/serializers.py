from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from kith.jobs import registry
from kith.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    seconds_left = serializers.IntegerField(read_only=True, allow_null=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    file_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = (
            "id",
            "kind",
            "kind_label",
            "title",
            "owner",
            "source",
            "status",
            "done",
            "total",
            "percent",
            "seconds_left",
            "attempts",
            "message",
            "result",
            "file_url",
            "url",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_kind_label(self, job: Job) -> str:
        return str(registry.label_of(job.kind))

    def _absolute(self, path: str) -> str:
        request: Any = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_file_url(self, job: Job) -> str | None:
        return self._absolute(reverse("jobs-api:file", args=[job.pk])) if job.file_name else None

    def get_url(self, job: Job) -> str:
        return self._absolute(reverse("jobs-api:detail", args=[job.pk]))
