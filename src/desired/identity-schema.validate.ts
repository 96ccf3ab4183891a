// @ts-nocheck
// Generated from schema/identity.schema.json by scripts/gen-validators.mjs (npm run package); do not edit.

export const validate = validate10;
export default validate10;
const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","title":"apim-policy-deploy identity manifest (identity.yaml)","description":"The managed identities of the API Management instance and the Azure role assignments they need, deployed by apim-policy-deploy. Any string value may use ${NAME}, replaced from `variables:` in environments/<name>.yaml of the environment chosen with the `environment` input or the --environment flag.","markdownDescription":"The managed identities of the API Management instance and the Azure role assignments they need, deployed by **apim-policy-deploy**.\n\nAny string value may use `${NAME}`, replaced from `variables:` in `environments/<name>.yaml` (next to this file) of the environment chosen with the `environment` input or the `--environment` flag.","type":"object","additionalProperties":false,"properties":{"identity":{"description":"The managed identities of the API Management instance.","markdownDescription":"The managed identities of the API Management instance: its system-assigned identity and the user-assigned identities attached to it.","type":["object","null"],"additionalProperties":false,"properties":{"systemAssigned":{"description":"Turns the instance's system-assigned managed identity on (true) or off (false). Leave it out to keep it as it is live. Turning it off is destructive: the plan shows it under a warning and apply needs an explicit opt-in.","markdownDescription":"Turns the instance's system-assigned managed identity on (`true`) or off (`false`).\n\nLeave it out to keep it as it is live. Turning it off is destructive: the plan shows it under a warning and apply needs an explicit opt-in (`allow-destructive-identity-changes`).","type":"boolean","examples":[true]},"userAssigned":{"description":"User-assigned managed identities attached to the instance: a short alias (letters, digits, - and _) mapped to the identity's ARM resource ID. Role assignments name an identity by its alias.","markdownDescription":"User-assigned managed identities attached to the instance: a short **alias** (letters, digits, `-` and `_`) mapped to the identity's ARM resource ID. Role assignments name an identity by its alias.\n\n```yaml\nuserAssigned:\n  openai: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>\n```","type":["object","null"],"propertyNames":{"pattern":"^[A-Za-z0-9_-]+$","not":{"const":"system"}},"additionalProperties":{"description":"ARM resource ID of a user-assigned managed identity: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>","markdownDescription":"ARM resource ID of a user-assigned managed identity:\n\n`/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`","type":"string","minLength":1,"examples":["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-openai"]},"examples":[{"openai":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-openai"}]}},"examples":[{"systemAssigned":true}]},"roleAssignments":{"description":"Azure role assignments for the instance's identities. Each is identified by its identity, role and scope, so re-runs are idempotent. Assignments the tool did not create are reported, never deleted.","markdownDescription":"Azure role assignments for the instance's identities. Each is identified by its identity, role and scope, so re-runs are idempotent. Assignments the tool did not create are reported, never deleted.\n\n```yaml\nroleAssignments:\n  - identity: system\n    role: Azure Service Bus Data Sender\n    scope: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ServiceBus/namespaces/<namespace>\n```","type":["array","null"],"items":{"description":"One role assignment: which identity gets which role on which scope.","markdownDescription":"One role assignment: which `identity` gets which `role` on which `scope`.","type":"object","additionalProperties":false,"required":["identity","role","scope"],"properties":{"identity":{"description":"system for the instance's system-assigned identity, or an alias from identity.userAssigned.","markdownDescription":"`system` for the instance's system-assigned identity, or an alias from `identity.userAssigned`.","type":"string","minLength":1,"examples":["system"]},"role":{"description":"A built-in role name (such as Azure Service Bus Data Sender) or a role definition GUID. A name close to a known built-in role but not equal to it is an error. Owner, Contributor, User Access Administrator and Role Based Access Control Administrator are refused unless privileged roles are explicitly allowed.","markdownDescription":"A built-in role name (such as `Azure Service Bus Data Sender`) or a role definition GUID.\n\nA name close to a known built-in role but not equal to it is an error. `Owner`, `Contributor`, `User Access Administrator` and `Role Based Access Control Administrator` are refused unless privileged roles are explicitly allowed (`allow-privileged-roles`).","type":"string","minLength":1,"examples":["API Management Service Contributor","API Management Service Operator Role","API Management Service Reader Role","App Configuration Data Owner","App Configuration Data Reader","Azure AI Developer","Azure AI User","Azure Event Hubs Data Owner","Azure Event Hubs Data Receiver","Azure Event Hubs Data Sender","Azure Relay Listener","Azure Relay Owner","Azure Relay Sender","Azure Service Bus Data Owner","Azure Service Bus Data Receiver","Azure Service Bus Data Sender","Cognitive Services Contributor","Cognitive Services OpenAI Contributor","Cognitive Services OpenAI User","Cognitive Services User","Contributor","EventGrid Data Sender","Key Vault Administrator","Key Vault Certificate User","Key Vault Certificates Officer","Key Vault Crypto Officer","Key Vault Crypto Service Encryption User","Key Vault Crypto User","Key Vault Reader","Key Vault Secrets Officer","Key Vault Secrets User","Log Analytics Reader","Logic App Contributor","Logic App Operator","Managed Identity Operator","Monitoring Metrics Publisher","Monitoring Reader","Owner","Reader","Role Based Access Control Administrator","Search Index Data Contributor","Search Index Data Reader","Search Service Contributor","Storage Account Contributor","Storage Blob Data Contributor","Storage Blob Data Owner","Storage Blob Data Reader","Storage File Data SMB Share Reader","Storage Queue Data Contributor","Storage Queue Data Message Processor","Storage Queue Data Message Sender","Storage Queue Data Reader","Storage Table Data Contributor","Storage Table Data Reader","User Access Administrator"]},"scope":{"description":"ARM ID of what the role is granted on: a resource (/subscriptions/<id>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>), a resource group, a subscription or a management group (/providers/Microsoft.Management/managementGroups/<id>).","markdownDescription":"ARM ID of what the role is granted on:\n\n- a resource: `/subscriptions/<id>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>` (child resources add `/<type>/<name>` pairs)\n- a resource group: `/subscriptions/<id>/resourceGroups/<group>`\n- a subscription: `/subscriptions/<id>`\n- a management group: `/providers/Microsoft.Management/managementGroups/<id>`","type":"string","minLength":1,"examples":["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders","/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging"]},"description":{"description":"Optional free text: why the identity needs this role.","markdownDescription":"Optional free text: why the identity needs this role.","type":"string","examples":["send-message policy of the orders API"]}}}}},"examples":[{"identity":{"systemAssigned":true,"userAssigned":{"openai":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apim-openai"}},"roleAssignments":[{"identity":"system","role":"Azure Service Bus Data Sender","scope":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders"},{"identity":"openai","role":"Cognitive Services OpenAI User","scope":"${OPENAI_SCOPE}"}]}]};
const pattern0 = new RegExp("^[A-Za-z0-9_-]+$", "u");
import func2$m from "ajv/dist/runtime/ucs2length.js";
const func2 = func2$m.default ?? func2$m;

function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
let vErrors = null;
let errors = 0;
if(data && typeof data == "object" && !Array.isArray(data)){
for(const key0 in data){
if(!((key0 === "identity") || (key0 === "roleAssignments"))){
const err0 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties",schema:false,parentSchema:schema11,data};
if(vErrors === null){
vErrors = [err0];
}
else {
vErrors.push(err0);
}
errors++;
}
}
if(data.identity !== undefined){
let data0 = data.identity;
if((!(data0 && typeof data0 == "object" && !Array.isArray(data0))) && (data0 !== null)){
const err1 = {instancePath:instancePath+"/identity",schemaPath:"#/properties/identity/type",keyword:"type",params:{type: schema11.properties.identity.type},message:"must be object,null",schema:schema11.properties.identity.type,parentSchema:schema11.properties.identity,data:data0};
if(vErrors === null){
vErrors = [err1];
}
else {
vErrors.push(err1);
}
errors++;
}
if(data0 && typeof data0 == "object" && !Array.isArray(data0)){
for(const key1 in data0){
if(!((key1 === "systemAssigned") || (key1 === "userAssigned"))){
const err2 = {instancePath:instancePath+"/identity",schemaPath:"#/properties/identity/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key1},message:"must NOT have additional properties",schema:false,parentSchema:schema11.properties.identity,data:data0};
if(vErrors === null){
vErrors = [err2];
}
else {
vErrors.push(err2);
}
errors++;
}
}
if(data0.systemAssigned !== undefined){
let data1 = data0.systemAssigned;
if(typeof data1 !== "boolean"){
const err3 = {instancePath:instancePath+"/identity/systemAssigned",schemaPath:"#/properties/identity/properties/systemAssigned/type",keyword:"type",params:{type: "boolean"},message:"must be boolean",schema:schema11.properties.identity.properties.systemAssigned.type,parentSchema:schema11.properties.identity.properties.systemAssigned,data:data1};
if(vErrors === null){
vErrors = [err3];
}
else {
vErrors.push(err3);
}
errors++;
}
}
if(data0.userAssigned !== undefined){
let data2 = data0.userAssigned;
if((!(data2 && typeof data2 == "object" && !Array.isArray(data2))) && (data2 !== null)){
const err4 = {instancePath:instancePath+"/identity/userAssigned",schemaPath:"#/properties/identity/properties/userAssigned/type",keyword:"type",params:{type: schema11.properties.identity.properties.userAssigned.type},message:"must be object,null",schema:schema11.properties.identity.properties.userAssigned.type,parentSchema:schema11.properties.identity.properties.userAssigned,data:data2};
if(vErrors === null){
vErrors = [err4];
}
else {
vErrors.push(err4);
}
errors++;
}
if(data2 && typeof data2 == "object" && !Array.isArray(data2)){
for(const key2 in data2){
const _errs9 = errors;
const _errs10 = errors;
const _errs11 = errors;
if("system" !== key2){
const err5 = {};
if(vErrors === null){
vErrors = [err5];
}
else {
vErrors.push(err5);
}
errors++;
}
var valid3 = _errs11 === errors;
if(valid3){
const err6 = {instancePath:instancePath+"/identity/userAssigned",schemaPath:"#/properties/identity/properties/userAssigned/propertyNames/not",keyword:"not",params:{},message:"must NOT be valid",schema:schema11.properties.identity.properties.userAssigned.propertyNames.not,parentSchema:schema11.properties.identity.properties.userAssigned.propertyNames,data:key2,propertyName:key2};
if(vErrors === null){
vErrors = [err6];
}
else {
vErrors.push(err6);
}
errors++;
}
else {
errors = _errs10;
if(vErrors !== null){
if(_errs10){
vErrors.length = _errs10;
}
else {
vErrors = null;
}
}
}
if(typeof key2 === "string"){
if(!pattern0.test(key2)){
const err7 = {instancePath:instancePath+"/identity/userAssigned",schemaPath:"#/properties/identity/properties/userAssigned/propertyNames/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_-]+$"},message:"must match pattern \""+"^[A-Za-z0-9_-]+$"+"\"",schema:"^[A-Za-z0-9_-]+$",parentSchema:schema11.properties.identity.properties.userAssigned.propertyNames,data:key2,propertyName:key2};
if(vErrors === null){
vErrors = [err7];
}
else {
vErrors.push(err7);
}
errors++;
}
}
var valid2 = _errs9 === errors;
if(!valid2){
const err8 = {instancePath:instancePath+"/identity/userAssigned",schemaPath:"#/properties/identity/properties/userAssigned/propertyNames",keyword:"propertyNames",params:{propertyName: key2},message:"property name must be valid",schema:schema11.properties.identity.properties.userAssigned.propertyNames,parentSchema:schema11.properties.identity.properties.userAssigned,data:data2};
if(vErrors === null){
vErrors = [err8];
}
else {
vErrors.push(err8);
}
errors++;
}
}
for(const key3 in data2){
let data3 = data2[key3];
if(typeof data3 === "string"){
if(func2(data3) < 1){
const err9 = {instancePath:instancePath+"/identity/userAssigned/" + key3.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/identity/properties/userAssigned/additionalProperties/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema11.properties.identity.properties.userAssigned.additionalProperties,data:data3};
if(vErrors === null){
vErrors = [err9];
}
else {
vErrors.push(err9);
}
errors++;
}
}
else {
const err10 = {instancePath:instancePath+"/identity/userAssigned/" + key3.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/identity/properties/userAssigned/additionalProperties/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema11.properties.identity.properties.userAssigned.additionalProperties.type,parentSchema:schema11.properties.identity.properties.userAssigned.additionalProperties,data:data3};
if(vErrors === null){
vErrors = [err10];
}
else {
vErrors.push(err10);
}
errors++;
}
}
}
}
}
}
if(data.roleAssignments !== undefined){
let data4 = data.roleAssignments;
if((!(Array.isArray(data4))) && (data4 !== null)){
const err11 = {instancePath:instancePath+"/roleAssignments",schemaPath:"#/properties/roleAssignments/type",keyword:"type",params:{type: schema11.properties.roleAssignments.type},message:"must be array,null",schema:schema11.properties.roleAssignments.type,parentSchema:schema11.properties.roleAssignments,data:data4};
if(vErrors === null){
vErrors = [err11];
}
else {
vErrors.push(err11);
}
errors++;
}
if(Array.isArray(data4)){
const len0 = data4.length;
for(let i0=0; i0<len0; i0++){
let data5 = data4[i0];
if(data5 && typeof data5 == "object" && !Array.isArray(data5)){
if(data5.identity === undefined){
const err12 = {instancePath:instancePath+"/roleAssignments/" + i0,schemaPath:"#/properties/roleAssignments/items/required",keyword:"required",params:{missingProperty: "identity"},message:"must have required property '"+"identity"+"'",schema:schema11.properties.roleAssignments.items.required,parentSchema:schema11.properties.roleAssignments.items,data:data5};
if(vErrors === null){
vErrors = [err12];
}
else {
vErrors.push(err12);
}
errors++;
}
if(data5.role === undefined){
const err13 = {instancePath:instancePath+"/roleAssignments/" + i0,schemaPath:"#/properties/roleAssignments/items/required",keyword:"required",params:{missingProperty: "role"},message:"must have required property '"+"role"+"'",schema:schema11.properties.roleAssignments.items.required,parentSchema:schema11.properties.roleAssignments.items,data:data5};
if(vErrors === null){
vErrors = [err13];
}
else {
vErrors.push(err13);
}
errors++;
}
if(data5.scope === undefined){
const err14 = {instancePath:instancePath+"/roleAssignments/" + i0,schemaPath:"#/properties/roleAssignments/items/required",keyword:"required",params:{missingProperty: "scope"},message:"must have required property '"+"scope"+"'",schema:schema11.properties.roleAssignments.items.required,parentSchema:schema11.properties.roleAssignments.items,data:data5};
if(vErrors === null){
vErrors = [err14];
}
else {
vErrors.push(err14);
}
errors++;
}
for(const key4 in data5){
if(!((((key4 === "identity") || (key4 === "role")) || (key4 === "scope")) || (key4 === "description"))){
const err15 = {instancePath:instancePath+"/roleAssignments/" + i0,schemaPath:"#/properties/roleAssignments/items/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key4},message:"must NOT have additional properties",schema:false,parentSchema:schema11.properties.roleAssignments.items,data:data5};
if(vErrors === null){
vErrors = [err15];
}
else {
vErrors.push(err15);
}
errors++;
}
}
if(data5.identity !== undefined){
let data6 = data5.identity;
if(typeof data6 === "string"){
if(func2(data6) < 1){
const err16 = {instancePath:instancePath+"/roleAssignments/" + i0+"/identity",schemaPath:"#/properties/roleAssignments/items/properties/identity/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema11.properties.roleAssignments.items.properties.identity,data:data6};
if(vErrors === null){
vErrors = [err16];
}
else {
vErrors.push(err16);
}
errors++;
}
}
else {
const err17 = {instancePath:instancePath+"/roleAssignments/" + i0+"/identity",schemaPath:"#/properties/roleAssignments/items/properties/identity/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema11.properties.roleAssignments.items.properties.identity.type,parentSchema:schema11.properties.roleAssignments.items.properties.identity,data:data6};
if(vErrors === null){
vErrors = [err17];
}
else {
vErrors.push(err17);
}
errors++;
}
}
if(data5.role !== undefined){
let data7 = data5.role;
if(typeof data7 === "string"){
if(func2(data7) < 1){
const err18 = {instancePath:instancePath+"/roleAssignments/" + i0+"/role",schemaPath:"#/properties/roleAssignments/items/properties/role/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema11.properties.roleAssignments.items.properties.role,data:data7};
if(vErrors === null){
vErrors = [err18];
}
else {
vErrors.push(err18);
}
errors++;
}
}
else {
const err19 = {instancePath:instancePath+"/roleAssignments/" + i0+"/role",schemaPath:"#/properties/roleAssignments/items/properties/role/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema11.properties.roleAssignments.items.properties.role.type,parentSchema:schema11.properties.roleAssignments.items.properties.role,data:data7};
if(vErrors === null){
vErrors = [err19];
}
else {
vErrors.push(err19);
}
errors++;
}
}
if(data5.scope !== undefined){
let data8 = data5.scope;
if(typeof data8 === "string"){
if(func2(data8) < 1){
const err20 = {instancePath:instancePath+"/roleAssignments/" + i0+"/scope",schemaPath:"#/properties/roleAssignments/items/properties/scope/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters",schema:1,parentSchema:schema11.properties.roleAssignments.items.properties.scope,data:data8};
if(vErrors === null){
vErrors = [err20];
}
else {
vErrors.push(err20);
}
errors++;
}
}
else {
const err21 = {instancePath:instancePath+"/roleAssignments/" + i0+"/scope",schemaPath:"#/properties/roleAssignments/items/properties/scope/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema11.properties.roleAssignments.items.properties.scope.type,parentSchema:schema11.properties.roleAssignments.items.properties.scope,data:data8};
if(vErrors === null){
vErrors = [err21];
}
else {
vErrors.push(err21);
}
errors++;
}
}
if(data5.description !== undefined){
let data9 = data5.description;
if(typeof data9 !== "string"){
const err22 = {instancePath:instancePath+"/roleAssignments/" + i0+"/description",schemaPath:"#/properties/roleAssignments/items/properties/description/type",keyword:"type",params:{type: "string"},message:"must be string",schema:schema11.properties.roleAssignments.items.properties.description.type,parentSchema:schema11.properties.roleAssignments.items.properties.description,data:data9};
if(vErrors === null){
vErrors = [err22];
}
else {
vErrors.push(err22);
}
errors++;
}
}
}
else {
const err23 = {instancePath:instancePath+"/roleAssignments/" + i0,schemaPath:"#/properties/roleAssignments/items/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema11.properties.roleAssignments.items.type,parentSchema:schema11.properties.roleAssignments.items,data:data5};
if(vErrors === null){
vErrors = [err23];
}
else {
vErrors.push(err23);
}
errors++;
}
}
}
}
}
else {
const err24 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object",schema:schema11.type,parentSchema:schema11,data};
if(vErrors === null){
vErrors = [err24];
}
else {
vErrors.push(err24);
}
errors++;
}
validate10.errors = vErrors;
return errors === 0;
}

