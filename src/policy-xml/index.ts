export { findExpressions, ScanError, type ExpressionSpan } from './expressions.js';
export { PolicySyntaxError } from './errors.js';
export { parsePolicyDocument, MAX_POLICY_BYTES, type PolicyDocument, type PolicyRootKind, type ParseOptions, type Segment, type XmlAttribute, type XmlElement, type XmlNode } from './document.js';
export { apimWrite, apimXml, canonicalize, fromRawxml, canonicalExpression, formatPolicy, segmentValue } from './print.js';
export { expressionCode } from './document.js';
export { referencesInCode } from './csharp.js';
export { MAX_EDIT_LINES, diffCanonical, lineCount, replacedLine, type TextDiff } from './diff.js';
export { decodeEntities } from './entities.js';
export { walkElements, literalValue, literalAttribute, includedFragments, type ElementVisit, type FragmentInclude } from './walk.js';
