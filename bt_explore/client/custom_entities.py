"""The client's methods for custom entities (``customEntity/{type}/...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bt_explore.client.transport import Transport
from bt_explore.deprecation import renamed_method
from bt_explore.models import CustomEntityAdd, wire_names

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["CustomEntityMethods"]

# the wire names of the body of customEntity/{type}/add, from its model
_ENTITY = wire_names(CustomEntityAdd)


class CustomEntityMethods(Transport):
    """Custom entities of any type and their links."""

    def add_custom_entity(
        self,
        entity_type: str,
        name: str,
        *,
        custom_id: str | None = None,
        notes: str | None = None,
        additional_data: Mapping[str, list[str]] | None = None,
        organization_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a custom entity of ``entity_type`` (``course``, ``rentalCar``…); returns the
        CUSTOM_ENTITY (201). Its ``custom_id`` must be unique in its type (else
        :class:`~bt_explore.ValidationError`, nothing stored). Other body fields pass through
        ``**fields``.

        Example:
            >>> car = client.add_custom_entity("rentalCar", "CB Testentity", custom_id="667")
            ... # doctest: +SKIP
            >>> car["class"], car["type"]                                      # doctest: +SKIP
            ('CUSTOM_ENTITY', 'rentalCar')
        """
        body: dict[str, Any] = {_ENTITY.name: name, **fields}
        for key, value in (
            (_ENTITY.custom_id, custom_id),
            (_ENTITY.notes, notes),
            (_ENTITY.additional_data, additional_data),
        ):
            if value is not None:
                body[key] = dict(value) if isinstance(value, Mapping) else value
        return self.call(
            "custom_entity_add",
            json=body,
            organization_id=organization_id,
            custom_entity_type=entity_type,
        ).content

    def custom_entity(
        self, entity_type: str, entity_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One CUSTOM_ENTITY by type and id.

        Example:
            >>> client.custom_entity("course", "6T...")["name"]                # doctest: +SKIP
        """
        return self._get(
            "custom_entity_show",
            organization_id,
            custom_entity_type=entity_type,
            custom_entity_id=entity_id,
        )

    def custom_entity_by_custom_id(
        self, entity_type: str, custom_id: str, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """One CUSTOM_ENTITY by type and ``customId`` (raises :class:`~bt_explore.NotFound`).

        Example:
            >>> client.custom_entity_by_custom_id("equipment", "projector")["name"]
            ... # doctest: +SKIP
            'Projector'
        """
        return self._get(
            "custom_entity_identify",
            organization_id,
            custom_entity_type=entity_type,
            custom_id=custom_id,
        )

    def custom_entities(
        self, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The organization's custom entities of one type (CUSTOM_ENTITY_SHORTs).

        Example:
            >>> [e["customId"] for e in client.custom_entities("course")]    # doctest: +SKIP
            ['nutrition-basics', 'back-fit', 'online-coaching']
        """
        return self._list("custom_entity_list", organization_id, custom_entity_type=entity_type)

    def appointment_custom_entities(
        self, appointment_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of one type linked to an appointment.

        Example:
            >>> client.appointment_custom_entities("ed...", "equipment")      # doctest: +SKIP
        """
        return self._list(
            "appointment_custom_entity_list",
            organization_id,
            appointment_id=appointment_id,
            custom_entity_type=entity_type,
        )

    def resource_custom_entities(
        self, resource_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of one type linked to a booking resource.

        Example:
            >>> client.resource_custom_entities("br...", "equipment")         # doctest: +SKIP
        """
        return self._list(
            "resource_custom_entity_list",
            organization_id,
            resource_id=resource_id,
            custom_entity_type=entity_type,
        )

    def template_custom_entities(
        self, template_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of one type linked to a booking template.

        Example:
            >>> client.template_custom_entities("fc...", "course")            # doctest: +SKIP
        """
        return self._list(
            "template_custom_entity_list",
            organization_id,
            template_id=template_id,
            custom_entity_type=entity_type,
        )

    def linked_custom_entities(
        self, entity_id: str, entity_type: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The custom entities of ``entity_type`` linked to the custom entity ``entity_id``.

        Example:
            >>> client.linked_custom_entities("6T...", "equipment")           # doctest: +SKIP
        """
        return self._list(
            "custom_entity_custom_entity_list",
            organization_id,
            custom_entity_id=entity_id,
            custom_entity_type=entity_type,
        )

    def custom_entity_templates(
        self, entity_type: str, entity_id: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The BOOKING_TEMPLATEs linked to a custom entity.

        Example:
            >>> [t["name"] for t in client.custom_entity_templates("course", "6T...")]
            ... # doctest: +SKIP
        """
        records = self._list(
            "custom_entity_template_list",
            organization_id,
            custom_entity_type=entity_type,
            custom_entity_id=entity_id,
        )
        self._remember_templates(records)
        return records

    def custom_entity_resources(
        self, entity_type: str, entity_id: str, *, organization_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The BOOKING_RESOURCEs linked to a custom entity.

        Example:
            >>> client.custom_entity_resources("equipment", "6T...")          # doctest: +SKIP
        """
        return self._list(
            "custom_entity_resource_list",
            organization_id,
            custom_entity_type=entity_type,
            custom_entity_id=entity_id,
        )

    def custom_entities_frame(
        self, entity_type: str, *, organization_id: str | None = None
    ) -> pd.DataFrame:
        """The custom entities of one type as a DataFrame
        (:func:`bt_explore.frames.custom_entities_frame`).

        Example:
            >>> client.custom_entities_frame("equipment")[["customId", "name"]]  # doctest: +SKIP
        """
        from bt_explore.frames import custom_entities_frame

        return custom_entities_frame(
            self.custom_entities(entity_type, organization_id=organization_id),
            entity_type=entity_type,
        )

    # -- old names, kept for one release

    custom_entities_df = renamed_method("custom_entities_df", "custom_entities_frame")
