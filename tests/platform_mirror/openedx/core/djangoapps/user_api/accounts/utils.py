"""Mirror of ``user_api/accounts/utils.py``: the first retirement step (deactivation)."""

from common.djangoapps.student.models import get_retired_email_by_email

from ..models import UserRetirementStatus


def create_retirement_request_and_deactivate_account(user):
    """Queue ``user`` for retirement and retire their email and password at once.

    The username is kept until the last step (``AccountRetirementView``).
    """
    UserRetirementStatus.create_retirement(user)
    user.email = get_retired_email_by_email(user.email)
    user.set_unusable_password()
    user.save()
