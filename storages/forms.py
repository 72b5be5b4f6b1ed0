from django import forms

from connections.forms import derived_identifier

from .models import Storage


class StorageForm(forms.ModelForm):
    class Meta:
        model = Storage
        fields = ["name", "identifier", "description", "time_to_live_days", "log_changes"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"identifier": "Letters, numbers and dashes; transformers name the storage by it. Made from the "
                                    "name when left empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["identifier"].required = False

    def clean_identifier(self) -> str:
        identifier = (self.cleaned_data.get("identifier") or "").strip()
        if identifier:
            return identifier
        name = self.cleaned_data.get("name") or self.data.get("name") or ""
        return derived_identifier(name, Storage, "storage", exclude_pk=self.instance.pk)
