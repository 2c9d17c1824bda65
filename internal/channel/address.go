package channel

// Twilio error codes that say the number itself cannot take SMS.
var badSMSAddressCodes = map[string]bool{
	"21211": true, // invalid 'To' phone number
	"21612": true, // the 'To' number is not reachable by SMS
	"21614": true, // the 'To' number is not a mobile number (a landline)
}

// BadAddress reports a permanent failure that says the address itself can
// never receive this channel (an invalid number, a landline), as opposed to
// a problem with one message. Another channel may still reach the person.
func (e *ProviderError) BadAddress() bool {
	return e != nil && e.Class == Permanent && e.Provider == "twilio" && badSMSAddressCodes[e.Code]
}
