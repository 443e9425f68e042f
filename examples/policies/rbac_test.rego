package plinth.rbac_test

import rego.v1

import data.plinth.rbac

sub := "/subscriptions/00000000-0000-0000-0000-000000000000"

data_owner := "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419"

owner := concat("", [sub, "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"])

queue := concat("", [sub, "/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/ns/queues/q"])

assignment(properties) := {"resource_changes": [{
	"address": "ra",
	"type": "azure:Microsoft.Authorization/roleAssignments@2022-04-01",
	"after": {"id": null, "properties": properties},
}]}

test_data_role_on_a_queue_passes if {
	count(rbac.deny) == 0 with input as assignment({"roleDefinitionId": data_owner, "scope": queue})
	count(rbac.warn) == 0 with input as assignment({"roleDefinitionId": data_owner, "scope": queue})
}

test_owner_is_denied_at_any_scope if {
	results := rbac.deny with input as assignment({"roleDefinitionId": owner, "scope": queue})
	some d in results
	d.address == "ra"
	contains(d.msg, "grants Owner")
}

test_subscription_scope_is_denied if {
	results := rbac.deny with input as assignment({"roleDefinitionId": data_owner, "scope": sub})
	some d in results
	contains(d.msg, "whole subscription or resource group")
}

test_resource_group_scope_is_denied if {
	rg := concat("", [sub, "/resourceGroups/rg"])
	count(rbac.deny) == 1 with input as assignment({"roleDefinitionId": data_owner, "scope": rg})
}

test_subscription_wide_owner_gives_two_denials if {
	count(rbac.deny) == 2 with input as assignment({"roleDefinitionId": owner, "scope": sub})
}

test_scope_from_the_id_when_not_reported if {
	id := concat("", [sub, "/providers/Microsoft.Authorization/roleAssignments/g"])
	count(rbac.deny) == 1 with input as {"resource_changes": [{
		"address": "ra",
		"type": "azure:Microsoft.Authorization/roleAssignments@2022-04-01",
		"after": {"id": id, "properties": {"roleDefinitionId": data_owner, "scope": null}},
	}]}
}

test_unknown_scope_warns if {
	count(rbac.warn) == 1 with input as assignment({"roleDefinitionId": data_owner, "scope": null})
	count(rbac.deny) == 0 with input as assignment({"roleDefinitionId": data_owner, "scope": null})
}
