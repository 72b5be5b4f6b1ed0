from django import forms

from .models import Variable


class VariableForm(forms.ModelForm):
    """Name, value, encrypted or not. An encrypted value is never shown again: blank keeps it."""

    value = forms.CharField(required=False, max_length=4000,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    class Meta:
        model = Variable
        fields = ("name", "value", "secret", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.secret:
            self.fields["value"].widget = forms.PasswordInput(render_value=False,
                                                              attrs={"autocomplete": "new-password"})
            self.fields["value"].help_text = "Set. Leave empty to keep it; type a new value to replace it."
        elif self.instance.pk:
            self.initial["value"] = self.instance.value

    def clean(self):
        data = super().clean()
        if not data.get("value") and not (self.instance.pk and self.instance.secret):
            self.add_error("value", "Give the variable a value.")
        return data

    def save(self, commit=True):
        variable = super().save(commit=False)
        typed = self.cleaned_data.get("value")
        if typed:
            variable.stored = {"value": typed}
        if commit:
            variable.save()
        return variable
