// SPDX-License-Identifier: GPL-2.0-or-later
//
// phone.cc - the C API of phone.h over libphonenumber.  Nothing may throw
// across the C boundary: every entry point catches everything.
#include "config.h"

#include <cstdio>
#include <cstring>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "phone.h"

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

const char *type_name(PhoneNumberUtil::PhoneNumberType t)
{
	switch (t) {
	case PhoneNumberUtil::FIXED_LINE: return "FIXED_LINE";
	case PhoneNumberUtil::MOBILE: return "MOBILE";
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "FIXED_LINE_OR_MOBILE";
	case PhoneNumberUtil::TOLL_FREE: return "TOLL_FREE";
	case PhoneNumberUtil::PREMIUM_RATE: return "PREMIUM_RATE";
	case PhoneNumberUtil::SHARED_COST: return "SHARED_COST";
	case PhoneNumberUtil::VOIP: return "VOIP";
	case PhoneNumberUtil::PERSONAL_NUMBER: return "PERSONAL_NUMBER";
	case PhoneNumberUtil::PAGER: return "PAGER";
	case PhoneNumberUtil::UAN: return "UAN";
	case PhoneNumberUtil::VOICEMAIL: return "VOICEMAIL";
	case PhoneNumberUtil::UNKNOWN: break;
	}
	return "UNKNOWN";
}

const char *parse_error(PhoneNumberUtil::ErrorType e)
{
	switch (e) {
	case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "unknown country calling code";
	case PhoneNumberUtil::NOT_A_NUMBER: return "not a phone number";
	case PhoneNumberUtil::TOO_SHORT_AFTER_IDD: return "too short after the international prefix";
	case PhoneNumberUtil::TOO_SHORT_NSN: return "too short";
	case PhoneNumberUtil::TOO_LONG_NSN: return "too long";
	case PhoneNumberUtil::NO_PARSING_ERROR: break;
	}
	return "cannot be parsed";
}

void copy(char *dst, std::size_t size, const std::string &s)
{
	std::snprintf(dst, size, "%s", s.c_str());
}

}  // namespace

extern "C" int ctl_phone_parse(const char *text, int default_cc, ctl_phone *out)
{
	std::memset(out, 0, sizeof(*out));
	out->type = "";
	try {
		const PhoneNumberUtil *util = PhoneNumberUtil::GetInstance();
		std::string region, e164;
		PhoneNumber num;

		util->GetRegionCodeForCountryCode(default_cc, &region);
		PhoneNumberUtil::ErrorType e = util->Parse(text ? text : "", region, &num);
		if (e != PhoneNumberUtil::NO_PARSING_ERROR) {
			out->kind = CTL_PHONE_UNPARSABLE;
			std::snprintf(out->reason, sizeof(out->reason), "%s", parse_error(e));
			return 0;
		}
		out->country_code = num.country_code();
		util->GetRegionCodeForNumber(num, &region);
		if (region == "ZZ")
			region.clear();
		copy(out->region, sizeof(out->region), region);
		util->Format(num, PhoneNumberUtil::E164, &e164);
		copy(out->e164, sizeof(out->e164), e164);
		if (!util->IsValidNumber(num)) {
			out->kind = CTL_PHONE_INVALID;
			std::snprintf(out->reason, sizeof(out->reason),
			              "not a valid number for country code +%d", out->country_code);
			return 0;
		}
		PhoneNumberUtil::PhoneNumberType t = util->GetNumberType(num);
		out->kind = CTL_PHONE_VALID;
		out->type = type_name(t);
		out->mobile = t == PhoneNumberUtil::MOBILE || t == PhoneNumberUtil::FIXED_LINE_OR_MOBILE;
		return 0;
	} catch (...) {
		std::memset(out, 0, sizeof(*out));
		out->type = "";
		std::snprintf(out->reason, sizeof(out->reason), "internal error (out of memory?)");
		return -1;
	}
}
