"""Settings -> Environment variables (Admins): ${NAME} values for this installation."""
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from .forms import VariableForm
from .models import Variable


def variable_list(request: HttpRequest) -> HttpResponse:
    return render(request, "variables/variable_list.html", {"variables": Variable.objects.all()})


def variable_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    variable = get_object_or_404(Variable, pk=pk) if pk else None
    form = VariableForm(request.POST or None, instance=variable)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"Environment variable ${{{saved.name}}} saved.")
        return redirect("variables:list")
    return render(request, "variables/variable_form.html", {"form": form, "variable": variable})


@require_POST
def variable_delete(request: HttpRequest, pk: int) -> HttpResponse:
    variable = get_object_or_404(Variable, pk=pk)
    variable.delete()
    messages.success(request, f"Environment variable ${{{variable.name}}} deleted; anything using it now fails "
                              "with a clear error until it is added again.")
    return redirect("variables:list")


app_name = "variables"
urlpatterns = [
    path("", variable_list, name="list"),
    path("new/", variable_edit, name="create"),
    path("<int:pk>/", variable_edit, name="edit"),
    path("<int:pk>/delete/", variable_delete, name="delete"),
]
