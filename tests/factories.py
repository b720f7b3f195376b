"""factory_boy factories for the test suite."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from propfee.core.models import StaffScope, User
from propfee.core.roles import Role
from propfee.estates.constants import PartyRole, UnitStatus, UnitType
from propfee.estates.models import Building, Company, Estate, Occupancy, Party, PartyPhone, Unit


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"测试物业公司{n}")


class EstateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Estate

    company = factory.SubFactory(CompanyFactory)
    code = factory.Sequence(lambda n: f"E{n}")
    name = factory.Sequence(lambda n: f"测试小区{n}")
    city = "杭州"
    address = "测试路1号"


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    estate = factory.SubFactory(EstateFactory)
    code = factory.Sequence(lambda n: str(n + 1))
    name = factory.LazyAttribute(lambda o: f"{o.code}栋")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    building = factory.SubFactory(BuildingFactory)
    estate = factory.LazyAttribute(lambda o: o.building.estate)
    entrance = ""
    room = factory.Sequence(lambda n: f"{(n % 30) + 1}{(n % 4) + 1:02d}")
    code = factory.LazyAttribute(lambda o: f"{o.estate.code}-{o.building.code}-{o.room}")
    floor = factory.LazyAttribute(lambda o: int(o.room) // 100)
    area_m2 = Decimal("89.50")
    unit_type = UnitType.RESIDENTIAL
    handover_date = dt.date(2020, 6, 1)
    status = UnitStatus.OCCUPIED


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"张{n}")
    email = ""
    id_number = ""


class PartyPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyPhone

    party = factory.SubFactory(PartyFactory)
    number = factory.Sequence(lambda n: f"100{n:08d}")
    number_reversed = factory.LazyAttribute(lambda o: o.number[::-1])
    position = 0


class OccupancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Occupancy

    unit = factory.SubFactory(UnitFactory)
    party = factory.SubFactory(PartyFactory, company=factory.SelfAttribute("..unit.estate.company"))
    role = PartyRole.OWNER
    is_payer = True
    since = dt.date(2020, 6, 1)
    until = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    company = factory.SubFactory(CompanyFactory)
    role = Role.COLLECTOR
    password = factory.PostGenerationMethodCall("set_password", "pw-test-12345")

    @factory.post_generation
    def estates(self, create, extracted, **kwargs):
        """`UserFactory(estates=[estate, ...])` scopes the user to whole estates."""
        if create and extracted:
            for estate in extracted:
                StaffScope.objects.create(user=self, estate=estate)
        if create:
            self.save()

    @factory.post_generation
    def buildings(self, create, extracted, **kwargs):
        """`UserFactory(buildings=[building, ...])` scopes the user to single buildings."""
        if create and extracted:
            for building in extracted:
                StaffScope.objects.create(user=self, estate=building.estate, building=building)
