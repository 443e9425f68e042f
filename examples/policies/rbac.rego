# Role assignments: nothing broader than a Service Bus namespace's data role. An assignment
# is denied when its role is Owner, Contributor or User Access Administrator (at any scope),
# or when its scope is a whole subscription or resource group (management group too).
package plinth.rbac

import rego.v1

# Built-in roles that can change or grant anything in their scope (ids fixed across Azure).
broad_roles := {
	"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
	"b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
	"18d7d88d-d35e-4fb5-a5c3-7773c4a72b9d": "User Access Administrator",
}

assignments contains c if {
	some c in input.resource_changes
	lower(split(c.type, "@")[0]) == "azure:microsoft.authorization/roleassignments"
	c.after != null
}

# The role's GUID: the last segment of properties.roleDefinitionId.
role_guid(c) := lower(guid) if {
	parts := split(c.after.properties.roleDefinitionId, "/")
	guid := parts[count(parts) - 1]
}

# The scope: properties.scope, or the part of the assignment's id before its provider
# segment when the scope is not reported (yet).
scope(c) := c.after.properties.scope if {
	is_string(c.after.properties.scope)
} else := s if {
	is_string(c.after.id)
	s := split(lower(c.after.id), "/providers/microsoft.authorization/roleassignments/")[0]
}

# A subscription, resource group or management group: a scope without a resource in it.
broad_scope(s) if {
	regex.match(`^/subscriptions/[^/]+(/resourcegroups/[^/]+)?/?$`, lower(s))
}

broad_scope(s) if {
	startswith(lower(s), "/providers/microsoft.management/managementgroups/")
}

deny contains {
	"msg": sprintf("role assignment %s grants %s, broader than a Service Bus data role", [c.address, broad_roles[role_guid(c)]]),
	"address": c.address,
	"fix": "grant a data role instead (azure.role_definition_id(\"Azure Service Bus Data Owner\"), Data Sender or Data Receiver)",
} if {
	some c in assignments
	broad_roles[role_guid(c)]
}

deny contains {
	"msg": sprintf("role assignment %s is scoped to %s, a whole subscription or resource group", [c.address, scope(c)]),
	"address": c.address,
	"fix": "scope it to the Service Bus namespace or queue it is for (parent = \"${sb.id}\" or \"${queue.id}\")",
} if {
	some c in assignments
	broad_scope(scope(c))
}

# A scope plinth cannot see before apply cannot be checked: say so rather than pass silently.
warn contains {
	"msg": sprintf("the scope of role assignment %s is known only after apply, so its breadth is not checked", [c.address]),
	"address": c.address,
} if {
	some c in assignments
	not scope(c)
}
