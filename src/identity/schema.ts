/**
 * The JSON Schema of identity.yaml, the same object as schema/identity.schema.json (published for
 * editors: `# yaml-language-server: $schema=…`). It lives here as code so that the bundles carry
 * it without a JSON import; __tests__/identity-manifest.test.ts keeps the two equal.
 */
export const IDENTITY_SCHEMA = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "apim-policy-deploy identity manifest (identity.yaml)",
  "description": "The managed identities of the API Management instance and the Azure role assignments they need, deployed by apim-policy-deploy. Any string value may use ${NAME}, replaced from `variables:` in environments/<name>.yaml of the environment chosen with the `environment` input or the --environment flag.",
  "markdownDescription": "The managed identities of the API Management instance and the Azure role assignments they need, deployed by **apim-policy-deploy**.\n\nAny string value may use `${NAME}`, replaced from `variables:` in `environments/<name>.yaml` (next to this file) of the environment chosen with the `environment` input or the `--environment` flag.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "identity": {
      "description": "The managed identities of the API Management instance.",
      "markdownDescription": "The managed identities of the API Management instance: its system-assigned identity and the user-assigned identities attached to it.",
      "type": [
        "object",
        "null"
      ],
      "additionalProperties": false,
      "properties": {
        "systemAssigned": {
          "description": "Turns the instance's system-assigned managed identity on (true) or off (false). Leave it out to keep it as it is live. Turning it off is destructive: the plan shows it under a warning and apply needs an explicit opt-in.",
          "markdownDescription": "Turns the instance's system-assigned managed identity on (`true`) or off (`false`).\n\nLeave it out to keep it as it is live. Turning it off is destructive: the plan shows it under a warning and apply needs an explicit opt-in (`allow-destructive-identity-changes`).",
          "type": "boolean",
          "examples": [
            true
          ]
        },
        "userAssigned": {
          "description": "User-assigned managed identities attached to the instance: a short alias (letters, digits, - and _) mapped to the identity's ARM resource ID. Role assignments name an identity by its alias.",
          "markdownDescription": "User-assigned managed identities attached to the instance: a short **alias** (letters, digits, `-` and `_`) mapped to the identity's ARM resource ID. Role assignments name an identity by its alias.\n\n```yaml\nuserAssigned:\n  openai: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>\n```",
          "type": [
            "object",
            "null"
          ],
          "propertyNames": {
            "pattern": "^[A-Za-z0-9_-]+$",
            "not": {
              "const": "system"
            }
          },
          "additionalProperties": {
            "description": "ARM resource ID of a user-assigned managed identity: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
            "markdownDescription": "ARM resource ID of a user-assigned managed identity:\n\n`/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`",
            "type": "string",
            "minLength": 1,
            "examples": [
              "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-openai"
            ]
          },
          "examples": [
            {
              "openai": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-openai"
            }
          ]
        }
      },
      "examples": [
        {
          "systemAssigned": true
        }
      ]
    },
    "roleAssignments": {
      "description": "Azure role assignments for the instance's identities. Each is identified by its identity, role and scope, so re-runs are idempotent. Assignments the tool did not create are reported, never deleted.",
      "markdownDescription": "Azure role assignments for the instance's identities. Each is identified by its identity, role and scope, so re-runs are idempotent. Assignments the tool did not create are reported, never deleted.\n\n```yaml\nroleAssignments:\n  - identity: system\n    role: Azure Service Bus Data Sender\n    scope: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ServiceBus/namespaces/<namespace>\n```",
      "type": [
        "array",
        "null"
      ],
      "items": {
        "description": "One role assignment: which identity gets which role on which scope.",
        "markdownDescription": "One role assignment: which `identity` gets which `role` on which `scope`.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "identity",
          "role",
          "scope"
        ],
        "properties": {
          "identity": {
            "description": "system for the instance's system-assigned identity, or an alias from identity.userAssigned.",
            "markdownDescription": "`system` for the instance's system-assigned identity, or an alias from `identity.userAssigned`.",
            "type": "string",
            "minLength": 1,
            "examples": [
              "system"
            ]
          },
          "role": {
            "description": "A built-in role name (such as Azure Service Bus Data Sender) or a role definition GUID. A name close to a known built-in role but not equal to it is an error. Owner, Contributor, User Access Administrator and Role Based Access Control Administrator are refused unless privileged roles are explicitly allowed.",
            "markdownDescription": "A built-in role name (such as `Azure Service Bus Data Sender`) or a role definition GUID.\n\nA name close to a known built-in role but not equal to it is an error. `Owner`, `Contributor`, `User Access Administrator` and `Role Based Access Control Administrator` are refused unless privileged roles are explicitly allowed (`allow-privileged-roles`).",
            "type": "string",
            "minLength": 1,
            "examples": [
              "API Management Service Contributor",
              "API Management Service Operator Role",
              "API Management Service Reader Role",
              "App Configuration Data Owner",
              "App Configuration Data Reader",
              "Azure AI Developer",
              "Azure AI User",
              "Azure Event Hubs Data Owner",
              "Azure Event Hubs Data Receiver",
              "Azure Event Hubs Data Sender",
              "Azure Service Bus Data Owner",
              "Azure Service Bus Data Receiver",
              "Azure Service Bus Data Sender",
              "Cognitive Services Contributor",
              "Cognitive Services OpenAI Contributor",
              "Cognitive Services OpenAI User",
              "Cognitive Services User",
              "Contributor",
              "EventGrid Data Sender",
              "Key Vault Administrator",
              "Key Vault Certificate User",
              "Key Vault Certificates Officer",
              "Key Vault Crypto Officer",
              "Key Vault Crypto User",
              "Key Vault Reader",
              "Key Vault Secrets Officer",
              "Key Vault Secrets User",
              "Logic App Contributor",
              "Logic App Operator",
              "Monitoring Metrics Publisher",
              "Owner",
              "Reader",
              "Role Based Access Control Administrator",
              "Search Index Data Contributor",
              "Search Index Data Reader",
              "Storage Blob Data Contributor",
              "Storage Blob Data Owner",
              "Storage Blob Data Reader",
              "Storage Queue Data Contributor",
              "Storage Queue Data Message Processor",
              "Storage Queue Data Message Sender",
              "Storage Queue Data Reader",
              "Storage Table Data Contributor",
              "Storage Table Data Reader",
              "User Access Administrator"
            ]
          },
          "scope": {
            "description": "ARM ID of what the role is granted on: a resource (/subscriptions/<id>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>), a resource group, a subscription or a management group (/providers/Microsoft.Management/managementGroups/<id>).",
            "markdownDescription": "ARM ID of what the role is granted on:\n\n- a resource: `/subscriptions/<id>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>` (child resources add `/<type>/<name>` pairs)\n- a resource group: `/subscriptions/<id>/resourceGroups/<group>`\n- a subscription: `/subscriptions/<id>`\n- a management group: `/providers/Microsoft.Management/managementGroups/<id>`",
            "type": "string",
            "minLength": 1,
            "examples": [
              "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders",
              "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging"
            ]
          },
          "description": {
            "description": "Optional free text: why the identity needs this role.",
            "markdownDescription": "Optional free text: why the identity needs this role.",
            "type": "string",
            "examples": [
              "send-message policy of the orders API"
            ]
          }
        }
      }
    }
  },
  "examples": [
    {
      "identity": {
        "systemAssigned": true,
        "userAssigned": {
          "openai": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-openai"
        }
      },
      "roleAssignments": [
        {
          "identity": "system",
          "role": "Azure Service Bus Data Sender",
          "scope": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders"
        },
        {
          "identity": "openai",
          "role": "Cognitive Services OpenAI User",
          "scope": "${OPENAI_SCOPE}"
        }
      ]
    }
  ]
};
