"""Read-mostly admin: planning data is written through the actions."""

from django.contrib import admin

from .models import Campaign, MediaAsset, Post, Variant, VariantRevision


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = ("title", "status", "planned_at", "owner_administration")
    list_filter = ("status", "organisation")
    search_fields = ("title",)


@admin.register(Variant)
class VariantAdmin(ReadOnlyAdmin):
    list_display = ("post", "channel", "planned_at", "publication_status")


@admin.register(VariantRevision)
class VariantRevisionAdmin(ReadOnlyAdmin):
    list_display = ("variant", "number", "created_at", "created_by")


@admin.register(MediaAsset)
class MediaAssetAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "kind", "administration", "rights_expire_on")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "starts_on", "ends_on")
