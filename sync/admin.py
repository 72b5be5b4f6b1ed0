from django.contrib import admin

from .models import CreateOrUpdate, Watermark


@admin.register(CreateOrUpdate)
class CreateOrUpdateAdmin(admin.ModelAdmin):
    list_display = ("outgoing", "enabled", "update_entity", "storage")


@admin.register(Watermark)
class WatermarkAdmin(admin.ModelAdmin):
    list_display = ("incoming", "enabled", "source", "value", "advanced_at")
