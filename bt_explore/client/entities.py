"""The client's methods for the organization, its templates, resources, module configs and
static lists (one method per row of :data:`bt_explore.endpoints.ENDPOINTS`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bt_explore.client.transport import Transport
from bt_explore.deprecation import renamed_method
from bt_explore.endpoints import STATIC_LISTS
from bt_explore.models import Organization, wire_names

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["EntityMethods"]

# the wire names of an ORGANIZATION, from its model
_ORG = wire_names(Organization)


class EntityMethods(Transport):
    """Organization, templates, resources, module configs, branches and static lists."""

    def organization(self, *, organization_id: str | None = None) -> dict[str, Any]:
        """The ORGANIZATION (name, address, timeZone, opening hours, …).

        Example:
            >>> client.organization()["timeZone"]                             # doctest: +SKIP
            'Europe/Berlin'
        """
        org = self._get("organization_show", organization_id)
        if isinstance(org, dict) and org.get(_ORG.time_zone):
            key = self.settings.require_organization(organization_id)
            self._time_zones[key] = str(org[_ORG.time_zone])
        return org

    def templates(self, *, organization_id: str | None = None) -> list[dict[str, Any]]:
        """The organization's BOOKING_TEMPLATEs (the LIST's ``recordList``).

        Example:
            >>> [t["name"] for t in client.templates()][:2]                 # doctest: +SKIP
            ['Test AppointmentTemplate', 'Demo Appointment 2']
        """
        records = self._list("template_list", organization_id)
        self._remember_templates(records)
        return records

    def template(self, template_id: str, *, organization_id: str | None = None) -> dict[str, Any]:
        """One BOOKING_TEMPLATE by id.

        Example:
            >>> client.template("fc...")["duration"]                         # doctest: +SKIP
            60
        """
        record = self._get("template_show", organization_id, template_id=template_id)
        self._remember_templates([record])
        return record

    def template_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One BOOKING_TEMPLATE by its ``customId``.

        Example:
            >>> client.template_by_custom_id("4321")["name"]                  # doctest: +SKIP
            'Demo Appointment 2'
        """
        record = self._get("template_identify", organization_id, custom_id=custom_id)
        self._remember_templates([record])
        return record

    def resource_templates(
        self, resource_id: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The BOOKING_TEMPLATEs a resource takes part in.

        Example:
            >>> client.resource_templates("br...")                           # doctest: +SKIP
        """
        records = self._list("resource_template_list", organization_id, resource_id=resource_id)
        self._remember_templates(records)
        return records

    def resources(self, *, organization_id: str | None = None) -> list[dict[str, Any]]:
        """The organization's BOOKING_RESOURCEs (staff, rooms, equipment).

        Example:
            >>> {r["type"] for r in client.resources()}                      # doctest: +SKIP
            {'EMPLOYEE', 'ROOM'}
        """
        return self._list("resource_list", organization_id)

    def resource(self, resource_id: str, *, organization_id: str | None = None) -> dict[str, Any]:
        """One BOOKING_RESOURCE by id.

        Example:
            >>> client.resource("br...")["name"]                             # doctest: +SKIP
        """
        return self._get("resource_show", organization_id, resource_id=resource_id)

    def resource_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One BOOKING_RESOURCE by its ``customId``.

        Example:
            >>> client.resource_by_custom_id("anna")                         # doctest: +SKIP
        """
        return self._get("resource_identify", organization_id, custom_id=custom_id)

    def module_config(
        self, module_config_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One MODULE_CONFIG by id: ``moduleId``, ``moduleName``, ``settingList`` of
        ``{key, value}`` (values are strings).

        Example:
            >>> client.module_config("5fDemoBooking7Hq2Lx9Vd4Rk8Tz3Wn6")["customId"]  # doctest: +SKIP
            'demo-booking'
        """
        return self._get("moduleConfig_show", organization_id, module_config_id=module_config_id)

    def module_config_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One MODULE_CONFIG by its ``customId`` (raises :class:`~bt_explore.NotFound` if none).

        Example:
            >>> client.module_config_by_custom_id("demo-booking")["moduleName"]  # doctest: +SKIP
            'bt_explore demo module'
        """
        return self._get("moduleConfig_identify", organization_id, custom_id=custom_id)

    def module_config_for(
        self, module_id: str | None = None, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The MODULE_CONFIG of a module (default: this client's) in the organization.

        Example:
            >>> settings = client.module_config_for()["settingList"]          # doctest: +SKIP
            >>> {s["key"]: s["value"] for s in settings}["showPrice"]          # doctest: +SKIP
            'true'
        """
        return self._get(
            "moduleConfig_module_show",
            organization_id,
            module_id=module_id or self.settings.client_id,
        )

    def organization_by_custom_id(
        self, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """The ORGANIZATION, or one of its branches, by ``customId``.

        Example:
            >>> client.organization_by_custom_id("potsdam")["name"]           # doctest: +SKIP
            'Praxis am Park – Potsdam'
        """
        return self._get("organization_identify", organization_id, custom_id=custom_id)

    def find_organizations(
        self, search_query: str = "", *, module_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The ORGANIZATIONs the module (default: this client) may access whose name, customId
        or city holds ``search_query`` (any case; ``""``: all). Sent with an unscoped token, as
        bookingtime's SDK does: no organization is in the URL.

        Example:
            >>> [o["customId"] for o in client.find_organizations("potsdam")]  # doctest: +SKIP
            ['potsdam']
        """
        return self._list(
            "organization_filter",
            None,
            params={"searchQuery": search_query},
            module_id=module_id or self.settings.client_id,
        )

    def branches(
        self, *, module_id: str | None = None, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The organization's branches (ORGANIZATIONs), as the module (default: this client)
        sees them.

        Example:
            >>> [b["customId"] for b in client.branches()]                    # doctest: +SKIP
            ['mitte', 'potsdam']
        """
        return self._list(
            "organization_list", organization_id, module_id=module_id or self.settings.client_id
        )

    # -- static lists --------------------------------------------------------------------------

    def booking_categories(self, *, organization_id: str | None = None) -> list[dict[str, Any]]:
        """The organization's booking category tree (``bookingCategory/tree``): the root
        BOOKING_CATEGORYs, each with its sub-categories in ``bookingCategoryList`` and its
        templates' ids in ``bookingTemplateIdList`` (the shape is the sandbox's assumption, see
        docs/sandbox.md).

        Example:
            >>> [c["name"] for c in client.booking_categories()]                # doctest: +SKIP
            ['Examinations', 'Therapies', 'Courses and rooms']
        """
        return self._list("booking_category_tree", organization_id)

    def static_list(self, kind: str) -> list[dict[str, Any]]:
        """A static LIST: ``timeZone``, ``country``, ``currency``, ``language`` or ``sector``.

        Records carry ``code`` and ``name`` (what bookingtime's own plugins read); sector codes
        look like ``"01ab"``, the code an ORGANIZATION's ``sector`` holds.

        Example:
            >>> {c["code"]: c["name"] for c in client.static_list("country")}["DE"]  # doctest: +SKIP
            'Germany'
        """
        if kind not in STATIC_LISTS:
            raise ValueError(f"unknown static list {kind!r}; known: {', '.join(STATIC_LISTS)}")
        return self._list("static_list", None, kind=kind)

    def time_zones(self) -> list[dict[str, Any]]:
        """The static list of time zones.

        Example:
            >>> len(client.time_zones()) > 0                                 # doctest: +SKIP
            True
        """
        return self.static_list("timeZone")  # wire: a name of endpoints.STATIC_LISTS, not a field

    def countries(self) -> list[dict[str, Any]]:
        """The static list of countries.

        Example:
            >>> client.countries()[0]                                        # doctest: +SKIP
        """
        return self.static_list("country")

    def currencies(self) -> list[dict[str, Any]]:
        """The static list of currencies.

        Example:
            >>> client.currencies()[0]                                       # doctest: +SKIP
        """
        return self.static_list("currency")

    def languages(self) -> list[dict[str, Any]]:
        """The static list of languages.

        Example:
            >>> client.languages()[0]                                        # doctest: +SKIP
        """
        return self.static_list("language")

    # -- DataFrames (bt_explore.frames) -----------------------------------------------------

    def templates_frame(self, *, organization_id: str | None = None) -> pd.DataFrame:
        """The templates as a DataFrame (:func:`bt_explore.frames.templates_frame`).

        Example:
            >>> client.templates_frame()[["name", "duration"]]                  # doctest: +SKIP
        """
        from bt_explore.frames import templates_frame

        return templates_frame(self.templates(organization_id=organization_id))

    def branches_frame(
        self, *, module_id: str | None = None, organization_id: str | None = None
    ) -> pd.DataFrame:
        """The organization's branches as a DataFrame
        (:func:`bt_explore.frames.organizations_frame`).

        Example:
            >>> client.branches_frame()[["custom_id", "city"]]              # doctest: +SKIP
        """
        from bt_explore.frames import organizations_frame

        return organizations_frame(
            self.branches(module_id=module_id, organization_id=organization_id)
        )

    def resources_frame(self, *, organization_id: str | None = None) -> pd.DataFrame:
        """The resources as a DataFrame (:func:`bt_explore.frames.resources_frame`).

        Example:
            >>> client.resources_frame()                                        # doctest: +SKIP
        """
        from bt_explore.frames import resources_frame

        return resources_frame(self.resources(organization_id=organization_id))

    def _known_template(self, template_id: str, organization_id: str | None) -> dict[str, Any]:
        with self._lock:
            known = self._templates.get(template_id)
        return (
            known
            if known is not None
            else self.template(template_id, organization_id=organization_id)
        )

    def _time_zone(self, organization_id: str | None) -> str:
        org = self.settings.require_organization(organization_id)
        zone = self._time_zones.get(org)
        if zone is None:
            content = self.organization(organization_id=org)
            zone = content.get(_ORG.time_zone) if isinstance(content, dict) else None
            zone = str(zone or "UTC")
            self._time_zones[org] = zone
        return zone

    # -- old names, kept for one release

    templates_df = renamed_method("templates_df", "templates_frame")
    organizations_df = renamed_method("organizations_df", "branches_frame")
    resources_df = renamed_method("resources_df", "resources_frame")
