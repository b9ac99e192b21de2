"""Encryption-key API: the keyring and the last count of values per key (``GET /api/v1/encryption/``), and
counting, re-encrypting and rotating as background jobs — what Settings → Encryption keys offers, with the
same checks: reading needs ("security", "view"), starting a job ("security", "administer"). Token area
``access``. Only key ids are ever returned, never keys."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kith.core.api_views import KithAPIView, StrictSerializer, error_responses, validated
from kith.jobs.api.serializers import JobSerializer
from kith.jobs.models import Job
from kith.security import encryption
from kith.security.api.organisation import SecurityAccess


class KeyStatusSerializer(serializers.Serializer):
    # a field named like Field.source: DRF takes declared fields off the class, so only mypy minds
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["file", "environment"],
        help_text=gettext_lazy("Where the keyring comes from: the instance file or KITH_ENCRYPTION_KEYS."),
    )
    keyring_file = serializers.CharField(
        help_text=gettext_lazy('The keyring file\'s name ("" for the environment).')
    )
    primary = serializers.CharField(help_text=gettext_lazy("The id of the key that encrypts."))
    key_ids = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("The ids of every key of the ring, primary first."),
    )
    index_key_id = serializers.CharField(help_text=gettext_lazy("The id of the blind-index key."))
    columns = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text=gettext_lazy(
            "Per encrypted column (app.model.field): the values under each key id, at the last count."
        ),
    )
    stale = serializers.IntegerField(
        help_text=gettext_lazy("Values under another key than the primary one, at the last count.")
    )
    counted_at = serializers.DateTimeField(
        allow_null=True, help_text=gettext_lazy("When the counts were taken (null: never counted).")
    )
    count_job = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The job that counted."))
    running_job = JobSerializer(allow_null=True, help_text=gettext_lazy("A key job queued or running now."))


class ReencryptInputSerializer(StrictSerializer):
    indexes = serializers.BooleanField(
        default=False, help_text=gettext_lazy("Also compute every blind index again.")
    )


class RotateInputSerializer(StrictSerializer):
    index = serializers.BooleanField(
        default=False,
        help_text=gettext_lazy("Also replace the blind-index key (every index is computed again)."),
    )


class _KeysView(KithAPIView):
    """Reading needs ("security", "view"), starting a job ("security", "administer"), as on the page; an
    API token needs access:read or access:write."""

    permission_classes = [SecurityAccess]


def _accepted(request: Request, job: Job) -> Response:
    return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class EncryptionStatusView(_KeysView):
    @extend_schema(
        operation_id="encryption_retrieve",
        summary="The keyring (key ids, the primary one) and the values under each key at the last count",
        responses={200: KeyStatusSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        found = encryption.key_status(user=request.user)
        body = {**found.as_dict(), "running_job": found.running}
        return Response(KeyStatusSerializer(body, context={"request": request}).data)


class EncryptionCountView(_KeysView):
    @extend_schema(
        operation_id="encryption_count",
        summary="Count the values under each key again, as a background job",
        request=None,
        responses={202: JobSerializer, **error_responses(401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        return _accepted(request, encryption.start_count(actor=request.user))


class EncryptionReencryptView(_KeysView):
    @extend_schema(
        operation_id="encryption_reencrypt",
        summary="Re-encrypt every value under the primary key, as a background job",
        request=ReencryptInputSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validated(ReencryptInputSerializer, request.data)
        return _accepted(request, encryption.start_reencrypt(actor=request.user, indexes=data["indexes"]))


class EncryptionRotateView(_KeysView):
    @extend_schema(
        operation_id="encryption_rotate",
        summary="Put a new key first in the instance keyring and re-encrypt everything, as a background job",
        description=(
            "Refused (409, code keys_from_environment) when the keys come from KITH_ENCRYPTION_KEYS: put a "
            "new key first there, restart, then POST /api/v1/encryption/reencrypt/."
        ),
        request=RotateInputSerializer,
        responses={202: JobSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validated(RotateInputSerializer, request.data)
        return _accepted(request, encryption.start_rotate(actor=request.user, index=data["index"]))
