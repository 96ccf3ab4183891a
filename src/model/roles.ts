/**
 * The Azure built-in roles this tool knows by name: their role definition GUIDs, the privileged
 * ones, and the names of the data-plane roles the lint rules reason about. Any other role name is
 * resolved live with a `roleName eq` lookup.
 */
import { closestByWords, closestManifestName } from './closest-name.js';
import { GUID } from './scope.js';

/**
 * Built-in role name → role definition GUID, for the roles APIM policies commonly need (data-plane
 * roles of the services policies call) and the general ones. Names are as Azure spells them; the
 * live plan resolves any other name with a `roleName eq` lookup.
 */
export const KNOWN_BUILT_IN_ROLES: Record<string, string> = {
  'API Management Service Contributor': '312a565d-c81f-4fd8-895a-4e21e48d571c',
  'API Management Service Operator Role': 'e022efe7-f5ba-4159-bbe4-b44f577e9b61',
  'API Management Service Reader Role': '71522526-b88f-4d52-b57f-d31fc3546d0d',
  'App Configuration Data Owner': '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b',
  'App Configuration Data Reader': '516239f1-63e1-4d78-a4de-a74fb236a071',
  'Azure AI Developer': '64702f94-c441-49e6-a78b-ef80e0188fee',
  'Azure AI User': '53ca6127-db72-4b80-b1b0-d745d6d5456d',
  'Azure Event Hubs Data Owner': 'f526a384-b230-433a-b45c-95f59c4a2dec',
  'Azure Event Hubs Data Receiver': 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde',
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975',
  'Azure Relay Listener': '26e0b698-aa6d-4085-9386-aadae190014d',
  'Azure Relay Owner': '2787bf04-f1f5-4bfe-8383-c8a24483ee38',
  'Azure Relay Sender': '26baccc8-eea7-41f1-98f4-1762cc7f685d',
  'Azure Service Bus Data Owner': '090c5cfd-751d-490a-894a-3ce6f1109419',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Cognitive Services Contributor': '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68',
  'Cognitive Services OpenAI Contributor': 'a001fd3d-188f-4b5d-821b-7da978bf7442',
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
  'Cognitive Services User': 'a97b65f3-24c7-4388-baec-2e87135dc908',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  'EventGrid Data Sender': 'd5a91429-5739-47e2-a06b-3470a27159e7',
  'Key Vault Administrator': '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  'Key Vault Certificate User': 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
  'Key Vault Certificates Officer': 'a4417e6f-fecd-4de8-b567-7b0420556985',
  'Key Vault Crypto Officer': '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
  'Key Vault Crypto Service Encryption User': 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
  'Key Vault Crypto User': '12338af0-0e69-4776-bea7-57ae8d297424',
  'Key Vault Reader': '21090545-7ca7-4776-b22c-e363652d74d2',
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Logic App Contributor': '87a39d53-fc1b-424a-814c-f7e04687dc9e',
  'Logic App Operator': '515c2055-d9d4-4321-b1b9-bd0c9a0f79fe',
  'Log Analytics Reader': '73c42c96-874c-492b-b04d-ab87d138a893',
  'Managed Identity Operator': 'f1a07417-d97a-45cb-824c-7a7467783830',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Monitoring Reader': '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  'Search Index Data Contributor': '8ebe5a00-799e-43f5-93ac-243d3dce84a7',
  'Search Index Data Reader': '1407120a-92aa-4202-b7e9-c0e197c71c8f',
  'Search Service Contributor': '7ca78c08-252a-4471-8644-bb5ff32d4ba0',
  'Storage Account Contributor': '17d1049b-9a84-46fb-8f53-869881c3d3ab',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  'Storage File Data SMB Share Reader': 'aba4ae5f-2193-4029-9191-0cb91df5e314',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Queue Data Message Processor': '8a0f0c08-91a1-4084-bc3d-661d67233fed',
  'Storage Queue Data Message Sender': 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
  'Storage Queue Data Reader': '19e7f393-937e-4f77-808e-94535e297925',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Table Data Reader': '76199698-9eea-4c19-bc75-cec21354c6b6',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
};

/** Roles that can grant access or change everything: refused unless explicitly allowed. */
export const PRIVILEGED_ROLE_GUIDS: ReadonlySet<string> = new Set(
  ['Owner', 'Contributor', 'User Access Administrator', 'Role Based Access Control Administrator'].map((name) => KNOWN_BUILT_IN_ROLES[name]!),
);

const ROLE_GUID_BY_NAME = new Map(Object.entries(KNOWN_BUILT_IN_ROLES).map(([name, guid]) => [name.toLowerCase(), guid]));
/** Role definition GUID (lower case) → built-in role name. */
const ROLE_NAME_BY_GUID = new Map(Object.entries(KNOWN_BUILT_IN_ROLES).map(([name, guid]) => [guid.toLowerCase(), name]));
const ROLE_NAME_BY_LOWER = new Map(Object.keys(KNOWN_BUILT_IN_ROLES).map((name) => [name.toLowerCase(), name]));

const IS_GUID = new RegExp(`^${GUID}$`);
/** A role definition ID as the portal and ARM show it, with or without the subscription. */
const ROLE_DEFINITION_ID = new RegExp(`^(?:/subscriptions/${GUID})?/providers/Microsoft\\.Authorization/roleDefinitions/(${GUID})$`, 'i');

/** The lower-case role definition GUID a role (GUID, role definition ID or known built-in name) stands for, when it can be known offline. */
export function roleGuid(role: string): string | undefined {
  if (IS_GUID.test(role)) return role.toLowerCase();
  const id = ROLE_DEFINITION_ID.exec(role);
  if (id) return id[1]!.toLowerCase();
  return ROLE_GUID_BY_NAME.get(role.trim().toLowerCase());
}

/** The built-in name of a role given by GUID or by name; undefined for custom roles and built-ins not listed here. */
export function builtInRoleName(role: { roleDefinitionGuid?: string; role: string }): string | undefined {
  if (role.roleDefinitionGuid) return ROLE_NAME_BY_GUID.get(role.roleDefinitionGuid);
  return ROLE_NAME_BY_LOWER.get(role.role.trim().toLowerCase());
}

/**
 * The role `name` most likely means: by words (a missing or extra word, a plural, a typo per word:
 * "Storage Blob Reader" → "Storage Blob Data Reader"), else by spelling (case-insensitive edit
 * distance without spaces, a small threshold relative to length: "KeyVaultSecretUser"); undefined
 * when none is close or two are equally close by words.
 */
export function suggestRole(name: string, candidates: Iterable<string> = Object.keys(KNOWN_BUILT_IN_ROLES)): string | undefined {
  const list = [...candidates];
  // Words first: "Storage Queue Data Sender" is two letters from "…Data Reader" but one word from "…Data Message Sender".
  return closestByWords(name, list) ?? closestManifestName(name, list);
}

// The data-plane roles the lint rules and the service catalogue (services.ts) name.
export const SB_SENDER = 'Azure Service Bus Data Sender';
export const SB_RECEIVER = 'Azure Service Bus Data Receiver';
export const SB_OWNER = 'Azure Service Bus Data Owner';
export const EH_SENDER = 'Azure Event Hubs Data Sender';
export const EH_RECEIVER = 'Azure Event Hubs Data Receiver';
export const EH_OWNER = 'Azure Event Hubs Data Owner';
export const BLOB_READER = 'Storage Blob Data Reader';
export const BLOB_CONTRIBUTOR = 'Storage Blob Data Contributor';
export const BLOB_OWNER = 'Storage Blob Data Owner';
export const QUEUE_CONTRIBUTOR = 'Storage Queue Data Contributor';
export const QUEUE_READER = 'Storage Queue Data Reader';
export const QUEUE_SENDER = 'Storage Queue Data Message Sender';
export const QUEUE_PROCESSOR = 'Storage Queue Data Message Processor';
export const TABLE_READER = 'Storage Table Data Reader';
export const TABLE_CONTRIBUTOR = 'Storage Table Data Contributor';
export const KV_ADMIN = 'Key Vault Administrator';
export const KV_SECRETS_USER = 'Key Vault Secrets User';
export const KV_SECRETS_OFFICER = 'Key Vault Secrets Officer';
export const KV_CERT_USER = 'Key Vault Certificate User';
export const KV_CERTS_OFFICER = 'Key Vault Certificates Officer';
export const KV_CRYPTO_USER = 'Key Vault Crypto User';
export const KV_CRYPTO_OFFICER = 'Key Vault Crypto Officer';
export const KV_READER = 'Key Vault Reader';
export const OPENAI_USER = 'Cognitive Services OpenAI User';
export const OPENAI_CONTRIBUTOR = 'Cognitive Services OpenAI Contributor';
export const COGNITIVE_USER = 'Cognitive Services User';
export const COGNITIVE_CONTRIBUTOR = 'Cognitive Services Contributor';
// The Foundry roles carry Cognitive Services data actions too.
export const AI_USER = 'Azure AI User';
export const AI_DEVELOPER = 'Azure AI Developer';
