"""REST API of background jobs: the caller's jobs, one job's progress and result, its file, cancel."""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, error_responses
from kith.jobs import selectors, services
from kith.jobs.api.serializers import JobSerializer
from kith.jobs.models import Job

LIST_LIMIT = 100


def _job(request: Request, pk: int) -> Job:
    job = selectors.job_for(request.user, pk)
    if job is None:
        raise Http404
    return job


class JobListView(KithAPIView):
    @extend_schema(
        operation_id="jobs_list",
        summary="The caller's jobs, newest first (at most 100)",
        responses={200: JobSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        jobs = selectors.jobs_for(request.user)[:LIST_LIMIT]
        return Response(JobSerializer(jobs, many=True, context={"request": request}).data)


class JobDetailView(KithAPIView):
    @extend_schema(
        operation_id="jobs_retrieve",
        summary="A job's status, progress (rows done of the total, time left) and result",
        responses={200: JobSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(JobSerializer(_job(request, pk), context={"request": request}).data)


class JobCancelView(KithAPIView):
    @extend_schema(
        operation_id="jobs_cancel",
        summary="Ask a queued or running job to stop",
        request=None,
        responses={200: JobSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        job = _job(request, pk)
        services.cancel(job, actor=request.user)
        return Response(JobSerializer(job, context={"request": request}).data)


class JobFileView(KithAPIView):
    @extend_schema(
        operation_id="jobs_file",
        summary="The file a finished job produced (an export, an error report ...)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        return services.file_response(_job(request, pk), request.user)
