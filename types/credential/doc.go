// Package credential reads what a credential says about itself that a
// verdict checks: the issuer it names (a W3C Verifiable Credential's or an
// Open Badge's issuer field, a string or an object's id) and its validity
// period (VC 2.0 validFrom/validUntil, VC 1.1 issuanceDate/expirationDate).
//
// It is pure: it imports the standard library and the types package only,
// and builds for the browser.
package credential
