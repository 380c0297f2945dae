/* The project's error space, generated from CK_ERROR_LIST (include/clinickv/error.h). */
#include <string.h>

#include "clinickv/error.h"

static const char *const error_codes[] = {[CK_OK] = "ok",
#define CK_ERROR_CODE(name, code, desc) [name] = code,
                                          CK_ERROR_LIST(CK_ERROR_CODE)
#undef CK_ERROR_CODE
};

static const char *const error_descs[] = {[CK_OK] = "success",
#define CK_ERROR_DESC(name, code, desc) [name] = desc,
                                          CK_ERROR_LIST(CK_ERROR_DESC)
#undef CK_ERROR_DESC
};

static int error_index(int err)
{
    if (err < 0)
        err = err < -CK__ELAST ? CK__ELAST : -err;
    if (err >= CK__ELAST)
        return CK_EINTERNAL;
    return err;
}

const char *ck_strerror(int err)
{
    return error_descs[error_index(err)];
}

const char *ck_error_code(int err)
{
    return error_codes[error_index(err)];
}

int ck_error_from_code(const char *code, unsigned len)
{
    for (int i = 1; i < CK__ELAST; i++) {
        if (strlen(error_codes[i]) == len && memcmp(error_codes[i], code, len) == 0)
            return -i;
    }
    return -CK_EINTERNAL;
}
