"""Named vocabularies of privacy tooling: consent channels and states, retention actions and flag states."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS / messaging")
    POST = "post", _("Post")
    WEB_FORM = "web_form", _("Web form")
    IN_PERSON = "in_person", _("In person")


class ConsentStatus(models.TextChoices):
    GIVEN = "given", _("Given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RetentionAction(models.TextChoices):
    FLAG = "flag", _("Flag for review")
    ANONYMISE = "anonymise", _("Anonymise automatically after the grace period")


class FlagState(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept after review")
    ERASED = "erased", _("Erased")


class ErasureVia(models.TextChoices):
    MANUAL = "manual", _("By hand")
    RETENTION_REVIEW = "retention_review", _("From a retention report")
    RETENTION_AUTO = "retention_auto", _("Automatically by a retention rule")
