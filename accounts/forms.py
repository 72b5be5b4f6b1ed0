"""Settings -> Users forms: add a user with a role, change role/activity, set a new password."""
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from .roles import ROLE_HELP, ROLES, role_of

ROLE_CHOICES = [(role, f"{role} — {ROLE_HELP[role]}") for role in ROLES]


class UserAddForm(UserCreationForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=ROLES[0], widget=forms.RadioSelect)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email", "first_name", "last_name")


class UserChangeForm(forms.ModelForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.RadioSelect)

    class Meta:
        model = get_user_model()
        fields = ("email", "first_name", "last_name", "is_active")
        labels = {"is_active": "Active (can sign in)"}

    def __init__(self, *args, acting_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user
        self.fields["role"].initial = role_of(self.instance)

    def clean(self):
        data = super().clean()
        if self.instance == self.acting_user:
            # An Admin locking themselves out could leave nobody to undo it.
            if data.get("role") != "Admin":
                self.add_error("role", "You cannot take away your own Admin role; ask another Admin.")
            if data.get("is_active") is False:
                self.add_error("is_active", "You cannot deactivate yourself; ask another Admin.")
        return data
